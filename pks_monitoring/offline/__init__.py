"""The offline tier: the mock engine the tests and the render stand on, the render, and the
render diff that shows a change per stack without a cluster."""
