// Package gitlabapi is a loopback stand-in for the GitLab REST API (v4),
// for tests that run real GitLab clients (the npm
// @modelcontextprotocol/server-gitlab) against tokens a real test OP
// issued. It accepts only those: each request's bearer token is checked at
// the OP's userinfo endpoint, and the subject the OP names is what the
// answers carry, so a test can see whose token reached the API.
//
//	op := zitadelop.Start(t, zitadelop.Options{})
//	api := gitlabapi.Start(t, op.Issuer+"/userinfo")
//	env := "GITLAB_API_URL=" + api.APIURL() // http://127.0.0.1:PORT/api/v4
//
// Routes (GitLab's wire format, canned bodies in testdata/):
//
//	GET /api/v4/projects?search=Q  one project named Q in the subject's namespace; X-Total: 1
//	GET /api/v4/user               the subject as a GitLab user
//
// Anything else is 404 {"message":"404 Not Found"}; a missing, unknown,
// expired or revoked token is 401 {"message":"401 Unauthorized"}, as GitLab
// answers. GitLab API: https://docs.gitlab.com/api/rest/
package gitlabapi
