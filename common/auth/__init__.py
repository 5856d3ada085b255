"""Who may do what: signed tokens that every service checks on its own, and each
service's rules of which roles may use which of its routes."""
