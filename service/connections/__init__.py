"""Page connections: a tenant's Facebook Pages and Instagram accounts, their encrypted tokens."""
