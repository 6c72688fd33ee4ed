"""The pages: thin adapters that read a request, ask the services, render a template."""
