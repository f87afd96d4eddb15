"""Archival metadata: reference codes, dates, sources (layout, sidecars, manifests), XMP."""
