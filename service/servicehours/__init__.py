"""Service hours: when a page's team promises to answer, and how fast (per client, overridable
per connection). ``arithmetic`` is the pure time arithmetic the response times are counted in."""
