
Bf2.bias.updatedJ(>®º=3‹>Æ–½QYF½«1½ FÉ½ôÛ¤=d¬§½ˆ+œ=ñp¯=