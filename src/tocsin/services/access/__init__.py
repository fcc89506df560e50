"""Access to tocsin from the web: API tokens, dashboard users, scopes, and the web read models.

principal  who is calling (token or user), scopes, and admins expressed through the policy
tokens     create / revoke / list / authenticate API tokens
users      create / delete / list / log in dashboard users
commands   run an incident command for a principal (scope first, then the shared services)
reads      pages of incidents, the live timeline feed, the audit log and deliveries (admins)
"""
