"""Authentication and authorisation: who is calling (``principal``) and the FastAPI
dependencies every domain's routes use to demand a role, a scope or ownership (``deps``)."""
