// Site-wide behaviour. Kept in a file (never inline) so the CSP can forbid inline script.
