(defsymphony "unknown" {} (weight-magic [(asset "AAA")]))
