"""Users, roles and API tokens: who acts."""
