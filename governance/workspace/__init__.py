"""The pages people use: the admin site, the workspace views, their templates and charts."""
