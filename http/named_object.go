package http

import (
	"context"
	"net/http"
)

// namedObject is what the get, update and delete routes of an object
// named by ID or name (a protection group, a recovery plan) need from the
// store; the three handlers below are the same for both.
type namedObject[T any] struct {
	prefix string // ID prefix, for pathRef
	find   func(ctx context.Context, idOrName string) (*T, error)
	update func(ctx context.Context, v *T) error
	delete func(ctx context.Context, id string, version int64) error
	// ids gives the object's ID and version fields.
	ids func(v *T) (id *string, version int64)
}

func (o namedObject[T]) get(w http.ResponseWriter, r *http.Request) error {
	ref, err := pathRef(r, o.prefix, true)
	if err != nil {
		return err
	}
	v, err := o.find(r.Context(), ref)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// put replaces the object named in the path with the body, conditional on
// the body's version.
func (o namedObject[T]) put(w http.ResponseWriter, r *http.Request) error {
	ref, err := pathRef(r, o.prefix, true)
	if err != nil {
		return err
	}
	var v T
	keys, err := decodeJSON(w, r, &v, bodyRequired)
	if err != nil {
		return err
	}
	cur, err := o.find(r.Context(), ref)
	if err != nil {
		return err
	}
	curID, _ := o.ids(cur)
	stateOf(r).target = *curID
	id, version := o.ids(&v)
	if err := updateFields(keys, *id, *curID, version); err != nil {
		return err
	}
	*id = *curID
	if err := o.update(r.Context(), &v); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, &v)
	return nil
}

// remove deletes the object named in the path at ?version=.
func (o namedObject[T]) remove(w http.ResponseWriter, r *http.Request) error {
	ref, err := pathRef(r, o.prefix, true)
	if err != nil {
		return err
	}
	q := newQuery(r, "version")
	version := q.version()
	if err := q.err(); err != nil {
		return err
	}
	cur, err := o.find(r.Context(), ref)
	if err != nil {
		return err
	}
	id, _ := o.ids(cur)
	stateOf(r).target = *id
	if err := o.delete(r.Context(), *id, version); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
