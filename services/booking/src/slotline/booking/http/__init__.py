"""The booking service's HTTP API: public booking and manage links, staff operations,
policies, customers."""
