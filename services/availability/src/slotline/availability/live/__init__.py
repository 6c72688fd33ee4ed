"""The live free-slot view: its projection, tables and feed."""
