(defsymphony "risk parity" {}
 (weight-inverse-volatility 10
  [(asset "AAA") (asset "BBB")
   (group "inner" [(weight-inverse-volatility 5 [(asset "CCC") (asset "DDD")])])]))
