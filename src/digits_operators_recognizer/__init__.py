"""Django project of the MathOCR resolver service (settings, URLs, WSGI, gunicorn)."""
