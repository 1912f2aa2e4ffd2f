package sim

import (
	"encoding/xml"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Helpers of the query protocols (EC2, STS): numbered list members in a
// form, XML answers.

// listParam returns the values of prefix.1, prefix.2, ... in numeric order.
func listParam(form url.Values, prefix string) []string {
	type item struct {
		n int
		v string
	}
	var items []item
	for k, vs := range form {
		rest, ok := strings.CutPrefix(k, prefix+".")
		if !ok || len(vs) == 0 {
			continue
		}
		if n, err := strconv.Atoi(rest); err == nil {
			items = append(items, item{n, vs[0]})
		}
	}
	slices.SortFunc(items, func(a, b item) int { return a.n - b.n })
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.v
	}
	return out
}

// filter is one EC2 Filter.N with its values.
type filter struct {
	name   string
	values []string
}

// filters reads Filter.N.Name and Filter.N.Value.M.
func filters(form url.Values) []filter {
	nums := map[int]bool{}
	for k := range form {
		rest, ok := strings.CutPrefix(k, "Filter.")
		if !ok {
			continue
		}
		n, _, _ := strings.Cut(rest, ".")
		if i, err := strconv.Atoi(n); err == nil {
			nums[i] = true
		}
	}
	keys := make([]int, 0, len(nums))
	for n := range nums {
		keys = append(keys, n)
	}
	slices.Sort(keys)
	out := make([]filter, 0, len(keys))
	for _, n := range keys {
		p := "Filter." + strconv.Itoa(n)
		out = append(out, filter{name: form.Get(p + ".Name"), values: listParam(form, p+".Value")})
	}
	return out
}

// globMatch matches EC2 filter values, where * and ? are wildcards.
func globMatch(pattern, s string) bool {
	if !strings.ContainsAny(pattern, "*?") {
		return pattern == s
	}
	// path.Match treats / and [ specially; escape them.
	p := strings.NewReplacer(`\`, `\\`, "[", `\[`, "]", `\]`).Replace(pattern)
	ok, err := path.Match(p, s)
	if err != nil || strings.Contains(s, "/") {
		return simpleGlob(pattern, s)
	}
	return ok
}

// simpleGlob is a backtracking * and ? matcher for values path.Match cannot take.
func simpleGlob(p, s string) bool {
	if p == "" {
		return s == ""
	}
	switch p[0] {
	case '*':
		for i := 0; i <= len(s); i++ {
			if simpleGlob(p[1:], s[i:]) {
				return true
			}
		}
		return false
	case '?':
		return s != "" && simpleGlob(p[1:], s[1:])
	}
	return s != "" && s[0] == p[0] && simpleGlob(p[1:], s[1:])
}

func writeXML(w http.ResponseWriter, status int, v any) {
	b, err := xml.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	b = append([]byte(xml.Header), b...)
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}
