"""Templates of the server configuration written by ``ccas-opendata deploiement``."""
