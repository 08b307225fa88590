"""Server-rendered pages (Jinja2) and their static files, served from the package."""
