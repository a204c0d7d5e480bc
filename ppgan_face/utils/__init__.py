"""Small utilities shared by the tools (image files, ...)."""
