"""Storage backends, one subpackage or module per URL scheme."""
