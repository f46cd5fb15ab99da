"""Native-resolution views of a photo: where the goods are (:mod:`.crop`), the tiles a network sees
(:mod:`.tiles`), and the choice of both (:mod:`.spec`). Pure numpy and OpenCV: the engine uses them to fit and
predict at native resolution, the studio to draw what the network saw."""
