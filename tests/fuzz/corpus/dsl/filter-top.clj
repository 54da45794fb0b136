(defsymphony "momentum" {}
 (filter (moving-average-return {:window 10}) (select-top 2)
  [(asset "AAA") (asset "BBB") (asset "CCC") (asset "DDD")]))
