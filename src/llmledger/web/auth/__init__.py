"""Dashboard sign-in: signed session cookies, CSRF tokens, roles and owner scopes."""
