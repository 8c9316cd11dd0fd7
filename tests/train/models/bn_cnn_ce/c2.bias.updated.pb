Bc2.bias.updatedJ0T–¥½ö£å=âP½×'á¼Bí½Wş½äÄ¢=xµp½-6‰½ª h½@ƒ¹=û
¼