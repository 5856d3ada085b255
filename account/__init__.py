"""The account context: who may sign in, with which roles, and the tokens it signs."""
