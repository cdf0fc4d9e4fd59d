package dev.gatehouse.hazelcast.internal;

import java.util.Map;

import com.hazelcast.map.EntryProcessor;

/** Adds a group to, or removes one from, a directory entry, atomically on its partition; nothing if absent. */
final class GroupChange implements EntryProcessor<String, DirectoryEntry, Boolean> {

    private static final long serialVersionUID = 1L;

    private final String group;
    private final boolean join;

    GroupChange(String group, boolean join) {
        this.group = group;
        this.join = join;
    }

    @Override
    public Boolean process(Map.Entry<String, DirectoryEntry> entry) {
        DirectoryEntry e = entry.getValue();
        if (e == null) {
            return false;
        }
        entry.setValue(e.withGroup(group, join));
        return true;
    }
}
