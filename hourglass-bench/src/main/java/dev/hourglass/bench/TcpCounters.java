package dev.hourglass.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The kernel's TCP counters that show a receiver's accept queue overflowing (Linux, {@code /proc/net/netstat}): a
 * connection the queue had no room for waits for the client's SYN to be sent again, one second later. Counted for
 * the whole machine (other processes' connections too); empty where the file cannot be read.
 */
final class TcpCounters {
    private static final Path NETSTAT = Path.of("/proc/net/netstat");
    private static final Map<String, String> NAMES = new LinkedHashMap<>(Map.of(
            "ListenOverflows", "tcp_listen_overflows", "TCPSynRetrans", "tcp_syn_retransmits"));

    private TcpCounters() {}

    static Map<String, Long> read() {
        Map<String, Long> counters = new HashMap<>();
        try {
            List<String> lines = Files.readAllLines(NETSTAT);
            for (int i = 0; i + 1 < lines.size(); i += 2) {
                String[] names = lines.get(i).split("\\s+");
                String[] values = lines.get(i + 1).split("\\s+");
                for (int k = 1; k < Math.min(names.length, values.length); k++) {
                    if (NAMES.containsKey(names[k])) {
                        counters.put(names[k], Long.parseLong(values[k]));
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            return Map.of();
        }
        return counters;
    }

    /** The counters' growth since {@code before}, under the bench's names; empty if they cannot be read. */
    static Map<String, Object> since(Map<String, Long> before) {
        Map<String, Long> now = read();
        Map<String, Object> delta = new LinkedHashMap<>();
        NAMES.forEach((name, as) -> {
            if (before.containsKey(name) && now.containsKey(name)) {
                delta.put(as, now.get(name) - before.get(name));
            }
        });
        return delta;
    }
}
