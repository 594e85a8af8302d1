package dev.wharf.access;

import java.net.InetAddress;
import java.util.List;

/** The source ranges a listener admits. Empty admits nobody (deny by default). */
public record AllowList(List<CidrBlock> blocks) {
    public static final AllowList NOBODY = new AllowList(List.of());

    public AllowList {
        blocks = List.copyOf(blocks);
    }

    public boolean allows(InetAddress source) {
        byte[] normalized = CidrBlock.normalize(source);
        for (CidrBlock block : blocks) {
            if (block.containsNormalized(normalized)) {
                return true;
            }
        }
        return false;
    }

    public List<String> asStrings() {
        return blocks.stream().map(CidrBlock::toString).toList();
    }
}
