package sim

import (
	"net/http"
	"strings"
	"time"
)

// Requests are not authenticated: signatures are parsed, never verified.
// The access key picks the account (keys issued by AssumeRole act in the
// role's account, any other key in the local account) and the credential
// scope picks the region and the service.

// scope is what the SigV4 credential scope of a request says.
type scope struct {
	accessKey string
	region    string
	service   string
}

// parseScope reads "Credential=AKID/DATE/REGION/SERVICE/aws4_request" from
// the Authorization header, or X-Amz-Credential from a presigned URL.
func parseScope(r *http.Request) scope {
	cred := ""
	if auth := r.Header.Get("Authorization"); auth != "" {
		if i := strings.Index(auth, "Credential="); i >= 0 {
			cred = auth[i+len("Credential="):]
			if j := strings.IndexAny(cred, ", "); j >= 0 {
				cred = cred[:j]
			}
		}
	} else {
		cred = r.URL.Query().Get("X-Amz-Credential")
	}
	parts := strings.Split(cred, "/")
	if len(parts) < 4 {
		return scope{}
	}
	return scope{accessKey: parts[0], region: parts[2], service: parts[3]}
}

// session is a set of temporary credentials issued by AssumeRole.
type session struct {
	accessKey   string
	secretKey   string
	token       string
	account     string
	roleARN     string
	sessionName string
	roleID      string
	expires     time.Time
}

// Credentials are static credentials for one simulated account.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	Expires         time.Time
}

// CredentialsFor returns credentials that act in the account, as if issued
// by AssumeRole (with the session name "wavedr-sim") for a target account,
// or static keys for the local account. It fails for unknown accounts.
func (s *Simulator) CredentialsFor(accountID string) (Credentials, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[accountID]
	if !ok {
		return Credentials{}, errorf("unknown account %q", accountID)
	}
	if a.RoleARN == "" || accountID == s.localID {
		return Credentials{AccessKeyID: "AKIASIMULATORLOCAL01", SecretAccessKey: "wavedr-sim-secret-key"}, nil
	}
	ss := s.newSession(a, "wavedr-sim", time.Hour)
	return Credentials{AccessKeyID: ss.accessKey, SecretAccessKey: ss.secretKey, SessionToken: ss.token, Expires: ss.expires}, nil
}

// newSession issues temporary credentials for the account. Their expiry is
// on the wall clock, because SDKs compare it with theirs; the simulator
// itself does not expire them.
func (s *Simulator) newSession(a *AccountConfig, name string, d time.Duration) *session {
	r := s.sessionRand
	ss := &session{
		accessKey:   "ASIA" + randString(r, upperAlnum, 16),
		secretKey:   randString(r, alnumDigits+"ABCDEFGHIJKLMNOPQRSTUVWXYZ", 40),
		token:       "IQoJb3JpZ2luX2VjE" + randString(r, alnumDigits+"ABCDEFGHIJKLMNOPQRSTUVWXYZ", 180),
		account:     a.ID,
		roleARN:     a.RoleARN,
		sessionName: name,
		roleID:      "AROA" + randString(stream(s.seed, "role", a.RoleARN), upperAlnum, 17),
		expires:     time.Now().Add(d).UTC().Truncate(time.Second),
	}
	s.sessions[ss.accessKey] = ss
	return ss
}
