(defsymphony "specified" {:asset-class "EQUITIES"}
 (weight-specified
  0.5 (asset "AAA")
  .25 (group "pair" [(weight-equal [(asset "BBB") (asset "CCC")])])
  +0.25 (asset "DDD")))
