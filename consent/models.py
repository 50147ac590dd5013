# Users' grants to OAuth clients and the screens that ask for them arrive
# with the authorization server; see README "Architecture".
