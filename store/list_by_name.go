package store

import (
	"context"
	"strings"

	"wavedr"
)

// byNameList describes one list ordered by lower-cased name, then ID: the
// shape shared by groups and plans.
type byNameList[T any] struct {
	list    string // the cursor's list name
	table   string
	columns string
	scan    func(row interface{ Scan(...any) error }) (T, error)
	key     func(T) (name, id string)
}

// page returns one page of l after cursor, filtered by the conditions in
// where (with their args); digest identifies the filter in the cursor.
func (l byNameList[T]) page(ctx context.Context, tx *Tx, limit int, cursorText, digest string, where []string, args []any) (*wavedr.Page[T], error) {
	n, err := wavedr.PageLimit(limit)
	if err != nil {
		return nil, err
	}
	if cursorText != "" {
		c, err := decodeCursor(cursorText, l.list, digest)
		if err != nil {
			return nil, err
		}
		where, args = append(where, "(name_key, id) > (?, ?)"), append(args, c.Key, c.ID)
	}
	what := "list " + strings.ReplaceAll(l.table, "_", " ")
	rows, err := tx.query(ctx, `SELECT `+l.columns+` FROM `+l.table+whereClause(where)+`
		ORDER BY name_key, id LIMIT ?`, append(args, n+1)...)
	if err != nil {
		return nil, dbError(what, err)
	}
	defer rows.Close()
	page := &wavedr.Page[T]{Items: []T{}}
	for rows.Next() {
		item, err := l.scan(rows)
		if err != nil {
			return nil, dbError(what, err)
		}
		page.Items = append(page.Items, item)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError(what, err)
	}
	if len(page.Items) > n {
		page.Items = page.Items[:n]
		name, id := l.key(page.Items[n-1])
		page.Next = encodeCursor(cursor{List: l.list, Filter: digest, Key: strings.ToLower(name), ID: id})
	}
	return page, nil
}
