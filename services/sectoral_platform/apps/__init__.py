"""Installable web apps (`/api/apps`): zip bundles with a manifest, served with a CSP."""
