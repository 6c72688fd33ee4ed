"""Channels behind one port: e-mail over SMTP, SMS and WhatsApp through a provider."""
