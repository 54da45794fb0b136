(defsymphony "escapes \"quoted\" \\ \n\t\r, commas" {:rebalance-threshold 0.05, :x true, :y false}
 (weight-equal [(asset "aaa") (asset "BRK/B" "slash") (asset "AAA")]))
