"""The glue between django-oauth-toolkit/oauthlib and our tenants, clients and tokens."""
