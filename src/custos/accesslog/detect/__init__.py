"""One module per detection family; each turns aggregates (custos.accesslog.features) into
`Detection`s with their evidence, at the thresholds of `Settings`."""
