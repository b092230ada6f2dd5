"""Who may do what, and how secrets are kept: roles (``roles``), API tokens (``tokens``), login
rate limiting (``throttle``), encryption at rest (``crypto``) and the encrypted model fields
(``fields``)."""
