"""Raw dataset sources (one module per dataset) and their registry."""
