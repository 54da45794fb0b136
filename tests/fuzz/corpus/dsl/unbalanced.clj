(defsymphony "unbalanced" {} (weight-equal [(asset "AAA")]
