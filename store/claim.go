package store

import (
	"context"
	"sort"

	"wavedr"
)

// ClaimServers records that the execution recovers the source servers, so
// that no other execution, in this process or another replica, can take
// them while it holds them. Claiming a server the execution already holds
// is a no-op. If another execution holds one, nothing is claimed and the
// error is ECONFLICT naming the server and that execution. EINVALID for a
// malformed server ID, ENOTFOUND if the execution does not exist.
//
// The claims are inserted first and checked after: on PostgreSQL an
// insert that meets a claim being made concurrently waits for that
// transaction, and the check then sees its outcome.
func (db *DB) ClaimServers(ctx context.Context, executionID string, serverIDs []string) error {
	return db.InTx(ctx, func(tx *Tx) error { return tx.ClaimServers(ctx, executionID, serverIDs) })
}

// ClaimServers: see [DB.ClaimServers].
func (tx *Tx) ClaimServers(ctx context.Context, executionID string, serverIDs []string) error {
	var p wavedr.Problems
	ids := make([]string, 0, len(serverIDs))
	seen := map[string]bool{}
	for i, id := range serverIDs {
		if !wavedr.ValidSourceServerID(id) {
			p.Add(wavedr.Indexed("servers", i), "%q is not a DRS source server ID", id)
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	if err := p.Err("server claim"); err != nil {
		return err
	}
	if len(ids) == 0 {
		return nil
	}
	sort.Strings(ids) // a fixed order keeps concurrent claimers from deadlocking
	var exists int
	if err := tx.queryRow(ctx, `SELECT 1 FROM executions WHERE id = ?`+tx.dialect.lockShared(), executionID).Scan(&exists); err != nil {
		if isNoRows(err) {
			return notFound("execution " + quote(executionID))
		}
		return dbError("claim servers", err)
	}
	now := tx.dialect.timeArg(tx.now)
	for _, id := range ids {
		if _, err := tx.exec(ctx, `INSERT INTO execution_claims (source_server_id, execution_id, claimed_at)
			VALUES (?, ?, ?) ON CONFLICT (source_server_id) DO NOTHING`, id, executionID, now); err != nil {
			return dbError("claim server "+id, err)
		}
	}
	for start := 0; start < len(ids); start += maxInList {
		part := ids[start:min(start+maxInList, len(ids))]
		args := make([]any, 0, len(part)+1)
		for _, id := range part {
			args = append(args, id)
		}
		rows, err := tx.query(ctx, `SELECT source_server_id, execution_id FROM execution_claims
			WHERE source_server_id IN (`+placeholders(len(part))+`) AND execution_id <> ?
			ORDER BY source_server_id LIMIT 1`, append(args, executionID)...)
		if err != nil {
			return dbError("check claims", err)
		}
		var server, other string
		found := rows.Next()
		if found {
			err = rows.Scan(&server, &other)
		}
		rows.Close()
		if err == nil {
			err = rows.Err()
		}
		if err != nil {
			return dbError("check claims", err)
		}
		if found {
			return conflictf("server %s is already being recovered by execution %s", server, other)
		}
	}
	return nil
}

// ReleaseServers drops every claim of the execution (when it is over). It
// is idempotent.
func (db *DB) ReleaseServers(ctx context.Context, executionID string) error {
	return db.InTx(ctx, func(tx *Tx) error { return tx.ReleaseServers(ctx, executionID) })
}

// ReleaseServers: see [DB.ReleaseServers].
func (tx *Tx) ReleaseServers(ctx context.Context, executionID string) error {
	if _, err := tx.exec(ctx, `DELETE FROM execution_claims WHERE execution_id = ?`, executionID); err != nil {
		return dbError("release servers", err)
	}
	return nil
}
