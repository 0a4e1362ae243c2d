"""Tenant changes through pull requests: what a change does (review), who must approve
it (codeowners), and delivering it after the merge (deliver). A flow above the adapters."""
