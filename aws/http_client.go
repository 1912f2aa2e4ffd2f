package aws

import (
	"io"
	"net/http"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// plainBodies sends requests through inner with each request body reduced
// to a plain reader and closer.
//
// The SDK's request body implements io.WriterTo, and its WriteTo can
// answer io.EOF once the body has been closed. net/http copies a body with
// io.Copy, which prefers WriteTo and takes that io.EOF for a failed send:
// it drops the connection while the answer is being read, and the call
// fails although AWS received it. For StartRecovery that costs an
// adoption of the tagged job; for every call, a retry. Hiding WriteTo
// makes net/http read the body, where io.EOF is the normal end.
type plainBodies struct {
	inner sdkaws.HTTPClient
}

func (c plainBodies) Do(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody {
		req.Body = struct {
			io.Reader
			io.Closer
		}{req.Body, req.Body}
	}
	return c.inner.Do(req)
}

// httpClient returns the client every SDK call goes through: the caller's
// (the in-process simulator's, say) or the SDK's default one, with plain
// request bodies.
func httpClient(caller *http.Client) sdkaws.HTTPClient {
	if caller != nil {
		return plainBodies{inner: caller}
	}
	return plainBodies{inner: awshttp.NewBuildableClient()}
}
