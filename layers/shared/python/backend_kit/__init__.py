"""In-house code shared by the functions, shipped as the `shared` layer."""
