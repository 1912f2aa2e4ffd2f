package http

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

var pathParam = regexp.MustCompile(`\{([a-zA-Z]+)\}`)

// openAPI describes the API from the route table, so the description
// cannot drift from the routes: paths, methods, parameters, the
// permission of each route (x-permission) and its audit action. Bodies
// are described in prose; their fields are those of the JSON answered.
func (s *Server) openAPI() map[string]any {
	paths := map[string]map[string]any{}
	for _, rt := range s.table {
		op := map[string]any{
			"summary":     rt.summary,
			"operationId": strings.ToLower(rt.method) + strings.NewReplacer("/", "_", "{", "", "}", "", "-", "_", ".", "_").Replace(strings.TrimPrefix(rt.path, "/v1")),
			"responses": map[string]any{
				successStatus(rt): map[string]any{"description": "success"},
				"default": map[string]any{"description": "an error", "content": map[string]any{
					"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Error"}}}},
			},
		}
		if rt.public {
			op["security"] = []any{}
		} else {
			op["x-permission"] = string(rt.perm)
		}
		if rt.action != "" {
			op["x-audit-action"] = rt.action
		}
		var params []any
		for _, m := range pathParam.FindAllStringSubmatch(rt.path, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
		if params != nil {
			op["parameters"] = params
		}
		if paths[rt.path] == nil {
			paths[rt.path] = map[string]any{}
		}
		paths[rt.path][strings.ToLower(rt.method)] = op
	}
	str := map[string]any{"type": "string"}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "wavedr API", "version": "v1",
			"description": "Disaster recovery orchestration on AWS Elastic Disaster Recovery. Every route but this one needs " +
				"Authorization: Bearer TOKEN (an API token wdr_... or an OIDC token) and the permission named by x-permission. " +
				"Lists take limit (1-500) and cursor, and answer {items, next}. Errors are {error: {code, message, details}}."},
		"security": []any{map[string]any{"bearer": []any{}}},
		"paths":    paths,
		"components": map[string]any{
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}},
			"schemas": map[string]any{"Error": map[string]any{
				"type": "object", "required": []string{"error"},
				"properties": map[string]any{"error": map[string]any{
					"type": "object", "required": []string{"code", "message"},
					"properties": map[string]any{
						"code":    map[string]any{"type": "string", "enum": []string{"invalid", "unauthorized", "forbidden", "not_found", "conflict", "quota", "unavailable", "internal"}},
						"message": str,
						"details": map[string]any{"type": "array", "items": map[string]any{"type": "object",
							"properties": map[string]any{"field": str, "rule": str}}},
					},
				}},
			}},
		},
	}
}

func successStatus(rt route) string {
	if rt.ok == 0 {
		return "200"
	}
	return strconv.Itoa(rt.ok)
}

func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, s.openAPI())
	return nil
}
