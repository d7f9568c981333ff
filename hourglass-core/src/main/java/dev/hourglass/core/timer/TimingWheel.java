package dev.hourglass.core.timer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.BiConsumer;

/**
 * A hierarchical timing wheel with 1 ms resolution: the in-memory near-term timer of the scheduler.
 *
 * <h2>Threading</h2>
 * <b>Not thread-safe.</b> Exactly one owner thread calls every method. Time is an argument
 * ({@link #advance(long, BiConsumer)}), never read from a clock, so the wheel is a pure data structure.
 * The consumer passed to {@code advance} must not call back into the wheel ({@code schedule}, {@code cancel},
 * {@code advance}, {@code drain}): collect what it needs and act after {@code advance} returns. Such calls
 * are detected and fail with {@link IllegalStateException}.
 *
 * <h2>Layout</h2>
 * 6 levels of 64 slots. A slot on level {@code L} is {@code 64^L} ms wide, so a
 * level covers {@code 64^(L+1)} ms:
 * <pre>
 *   level 0: 1 ms slots        covering 64 ms
 *   level 1: 64 ms slots       covering 4,096 ms
 *   level 2: 4,096 ms slots    covering ~262 s
 *   level 3: ~262 s slots      covering ~4.7 h
 *   level 4: ~4.7 h slots      covering ~12.4 days
 *   level 5: ~12.4 day slots   covering ~2.2 years (2^36 ms, the "top span")
 * </pre>
 * Each slot is a doubly linked list of nodes; a {@code HashMap<K, Node>} finds a node by key, so cancel is
 * O(1). Each level keeps a 64-bit occupancy mask: bit {@code s} is set iff slot {@code s} is non-empty.
 *
 * <p>Besides the wheel there are three sorted side structures:
 * <ul>
 *   <li><b>pending</b>: entries scheduled with {@code due <= now} (a {@code TreeMap} from due to bucket);</li>
 *   <li><b>ready</b>: entries the wheel has expired during an {@code advance} but not yet emitted (only
 *       non-empty while emitting, or after a consumer threw);</li>
 *   <li><b>overflow</b>: entries beyond the wheel's top span (a {@code TreeMap} from due to bucket), e.g.
 *       jobs years away. Each costs a map slot per distinct due time in addition to its node.</li>
 * </ul>
 *
 * <h2>Placement: by the highest differing bit, not by the delay</h2>
 * Write times in base 64: digit {@code L} of {@code t} is {@code (t >>> 6L) & 63}. An entry due at {@code d}
 * with current time {@code t < d} goes to the level of the highest base-64 digit in which {@code d} and
 * {@code t} differ, into the slot named by {@code d}'s digit there:
 * <pre>
 *   level = (63 - numberOfLeadingZeros(d ^ t)) / 6        slot = (d >>> 6*level) & 63
 * </pre>
 * If they differ above the top level ({@code (d ^ t) >>> 36 != 0}) the entry goes to overflow.
 *
 * <h2>Invariants (hold between public calls)</h2>
 * <ol>
 *   <li>Every entry is in exactly one place: the wheel, pending, ready or overflow; {@link #size()} is the
 *       number of keys.</li>
 *   <li>An entry on the wheel has {@code due > time}, sits on {@code level(due, time)} in slot
 *       {@code digit(due, level)}. Because {@code due} and {@code time} agree on every digit above the level and
 *       {@code due} is larger, its slot is <em>strictly ahead</em> of {@code time}'s digit on that level. So the
 *       lowest set bit of a level's mask is the next slot to come due: no rotation is needed, and no slot is
 *       ever "behind" the cursor.</li>
 *   <li>Every entry on level {@code L} is due earlier than every entry on level {@code L+1} (level {@code L}
 *       lies inside the current level-{@code L+1} slot; level {@code L+1} lies in later ones). Every wheel entry
 *       is due earlier than every overflow entry.</li>
 *   <li>Pending and ready entries have {@code due <= time}; overflow entries have {@code due > time}.</li>
 *   <li>Entries with the same due time that are not expired are always in the same list (placement is a
 *       function of due and time only), in the order they were scheduled: moving a list down a level preserves
 *       its order, and the target lists hold no entry with that due time when the move happens (an entry reaches
 *       a list directly only once time has entered that list's range, by which time the higher list was already
 *       moved down). Once expired, equal due times may be split between ready and pending; the ready ones were
 *       scheduled first (see {@code firstExpired}).</li>
 * </ol>
 *
 * <h2>Advancing</h2>
 * {@code advance(now)} repeatedly takes the lowest non-empty level {@code L} and its lowest occupied slot
 * {@code s}; that slot "comes due" at {@code start = time with digits 0..L replaced by (0.., s)}. If
 * {@code start <= now}, time jumps to {@code start} and the slot's entries are re-placed: those due exactly at
 * {@code start} become ready, the rest fall to lower levels (a <em>cascade</em>). Empty slots and idle gaps are
 * skipped with the masks, so jumping ten days costs one step per non-empty slot, not one per millisecond.
 * Then time is set to {@code now}, and ready and pending entries with {@code due <= now} are emitted in
 * ascending due order. Time never moves backwards: if {@code now < time} (the wall clock stepped back),
 * only already-expired entries with {@code due <= now} are emitted and the rest wait until {@code now} reaches
 * them.
 *
 * <h2>Worked example: an entry due in 5,000 ms</h2>
 * Start at {@code time = 0}, schedule {@code d = 5,000} (binary {@code 1 001110 001000}: digits 1, 14, 8).
 * <ol>
 *   <li>{@code d ^ time = 5,000}, highest bit 12, so level 2, slot {@code 5,000 >>> 12 = 1}. The slot comes
 *       due at {@code 1 * 4,096 = 4,096}; {@link #nextDueMillis()} returns 4,096 (a lower bound).</li>
 *   <li>{@code advance(4,096)}: time becomes 4,096 and slot 2/1 cascades. {@code d ^ 4,096 = 904}, highest
 *       bit 9, so level 1, slot {@code (5,000 >>> 6) & 63 = 14}, due at {@code 4,096 + 14 * 64 = 4,992}.</li>
 *   <li>{@code advance(4,992)}: cascades again. {@code d ^ 4,992 = 8}: level 0, slot 8, due at 5,000;
 *       {@code nextDueMillis()} is now exact.</li>
 *   <li>{@code advance(5,000)}: the entry is emitted. A single {@code advance(5,000)} from time 0 does all of
 *       the above in one call.</li>
 * </ol>
 * Because placement follows digits, not the delay, a short delay that crosses a high boundary lands high
 * (at {@code time = 262,000}, {@code d = 267,000} crosses the 262,144 boundary and starts on level 3), and
 * one that crosses a top-span boundary starts in overflow; it just cascades more. An entry cascades at most
 * once per level.
 *
 * <h2>Cost</h2>
 * schedule and cancel: O(1) on the wheel, O(log n) in pending/overflow. advance: O(levels + slots visited +
 * entries moved); each entry is moved at most once per level. No allocation per tick; one node per entry.
 *
 * @param <K> key type (needs {@code equals}/{@code hashCode}); scheduling an equal key replaces the entry
 * @param <V> value type
 */
public final class TimingWheel<K, V> {

    /** Bits per level: each level has 2^BITS slots. */
    static final int BITS = 6;
    /** Slots per level. */
    static final int SLOTS = 1 << BITS;
    /** Number of wheel levels; the top span is 2^(BITS*LEVELS) = 2^36 ms (~2.2 years). */
    static final int LEVELS = 6;
    /** Bits of time covered by the whole wheel. */
    static final int TOP_BITS = BITS * LEVELS;

    /** {@link #levelOf} result for an entry with {@code due <= time} (pending or ready). */
    static final int EXPIRED = -1;
    /** {@link #levelOf} result for an entry beyond the top span. */
    static final int OVERFLOW = LEVELS;
    /** {@link #levelOf} result for an unknown key. */
    static final int ABSENT = Integer.MIN_VALUE;

    private static final int SLOT_MASK = SLOTS - 1;

    /** The wheel's time; never decreases. */
    private long time;
    private final Map<K, Node<K, V>> nodes = new HashMap<>();
    /** wheel[level][slot]; the buckets are allocated once. */
    private final Bucket<K, V>[][] wheel;
    /** occupied[level] bit s set iff wheel[level][s] is non-empty. */
    private final long[] occupied = new long[LEVELS];
    /** Entries scheduled with due <= time, by due. */
    private final TreeMap<Long, Bucket<K, V>> pending = new TreeMap<>();
    /** Entries expired by the wheel and not yet emitted, in due order (all due <= time). */
    private final Bucket<K, V> ready = new Bucket<>(EXPIRED, 0, 0, null);
    /** Entries whose due differs from time above the top level, by due (all due > time). */
    private final TreeMap<Long, Bucket<K, V>> overflow = new TreeMap<>();
    /** True while the consumer runs; guards against re-entrant calls. */
    private boolean emitting;

    /** Creates an empty wheel whose current time is {@code startMillis} (epoch millis). */
    public TimingWheel(long startMillis) {
        this.time = startMillis;
        @SuppressWarnings("unchecked")
        Bucket<K, V>[][] w = (Bucket<K, V>[][]) new Bucket<?, ?>[LEVELS][SLOTS];
        for (int level = 0; level < LEVELS; level++) {
            for (int slot = 0; slot < SLOTS; slot++) {
                w[level][slot] = new Bucket<>(level, slot, 0, null);
            }
        }
        this.wheel = w;
    }

    // ---------------------------------------------------------------------------------------------- public API

    /**
     * Adds an entry due at {@code dueMillis}; an entry with an equal key is replaced (moved to the new time and
     * value, and ordered as if scheduled now). An entry with {@code dueMillis <= currentMillis()} is already
     * expired and is emitted by the next {@link #advance} whose {@code now >= dueMillis}.
     */
    public void schedule(K key, long dueMillis, V value) {
        Objects.requireNonNull(key, "key");
        checkNotEmitting();
        Node<K, V> node = nodes.get(key);
        if (node == null) {
            node = new Node<>(key);
            nodes.put(key, node);
        } else {
            unlink(node);
        }
        node.due = dueMillis;
        node.value = value;
        if (dueMillis <= time) {
            appendSorted(pending, node);
        } else {
            place(node);
        }
    }

    /** The value scheduled under {@code key}, or null if there is none. */
    public V get(K key) {
        Node<K, V> node = nodes.get(key);
        return node == null ? null : node.value;
    }

    /** Removes the entry for {@code key}; returns true if it was present. */
    public boolean cancel(K key) {
        checkNotEmitting();
        Node<K, V> node = nodes.remove(key);
        if (node == null) {
            return false;
        }
        unlink(node);
        node.clear();
        return true;
    }

    /**
     * Moves the wheel's time to {@code nowMillis} (never backwards) and passes every entry with
     * {@code dueMillis <= nowMillis} to {@code expired}, in ascending due order, equal due times in the order
     * they were scheduled. Each entry is removed before it is passed on. The consumer must not call back into
     * the wheel. If it throws, the exception propagates; the entries not yet passed on stay in the wheel and are
     * emitted by the next advance.
     *
     * @return the number of entries emitted
     */
    public int advance(long nowMillis, BiConsumer<K, V> expired) {
        Objects.requireNonNull(expired, "expired");
        checkNotEmitting();
        if (nowMillis > time) {
            moveTimeTo(nowMillis);
        }
        emitting = true;
        try {
            return emitExpired(nowMillis, expired);
        } finally {
            emitting = false;
        }
    }

    /**
     * A lower bound on the earliest due time of any entry, or {@link Long#MAX_VALUE} when empty. Exact when the
     * earliest entry is expired, on level 0 or in overflow. When no entry is expired the result is greater than
     * {@link #currentMillis()}, so repeatedly calling {@code advance(nextDueMillis())} reaches the earliest entry
     * in at most one step per level.
     */
    public long nextDueMillis() {
        Node<K, V> expired = firstExpired();
        if (expired != null) {
            return expired.due;
        }
        int level = lowestOccupiedLevel();
        if (level >= 0) {
            return slotStart(level, Long.numberOfTrailingZeros(occupied[level]));
        }
        return overflow.isEmpty() ? Long.MAX_VALUE : overflow.firstKey();
    }

    public int size() {
        return nodes.size();
    }

    public boolean isEmpty() {
        return nodes.isEmpty();
    }

    /** The wheel's time: the largest {@code now} ever passed to {@code advance}, or the start time. */
    public long currentMillis() {
        return time;
    }

    /** Removes every entry and returns the values in due order (equal due times in schedule order). */
    public List<V> drain() {
        checkNotEmitting();
        // Collect in an order where equal due times keep schedule order (they share one list, and ready
        // precedes pending, see firstExpired), then a stable sort by due gives the global order.
        List<Node<K, V>> all = new ArrayList<>(nodes.size());
        collect(ready, all);
        pending.values().forEach(b -> collect(b, all));
        for (int level = 0; level < LEVELS; level++) {
            for (int slot = 0; slot < SLOTS; slot++) {
                collect(wheel[level][slot], all);
            }
            occupied[level] = 0;
        }
        overflow.values().forEach(b -> collect(b, all));
        pending.clear();
        overflow.clear();
        nodes.clear();
        all.sort(Comparator.comparingLong(n -> n.due));
        List<V> values = new ArrayList<>(all.size());
        for (Node<K, V> n : all) {
            values.add(n.value);
            n.clear();
        }
        return values;
    }

    // ------------------------------------------------------------------------------------------ advancing time

    /**
     * Moves time forward to {@code now > time}, cascading every slot that comes due on the way and moving
     * entries due at or before {@code now} to the ready list (in due order). No consumer runs here.
     */
    private void moveTimeTo(long now) {
        while (true) {
            int level = lowestOccupiedLevel();
            if (level < 0) {
                if (!pullOverflow(now)) {
                    break;
                }
                continue;
            }
            int slot = Long.numberOfTrailingZeros(occupied[level]);
            long start = slotStart(level, slot);
            if (start > now) {
                break;
            }
            // Invariant 3: nothing on the wheel is due before start, so jumping there skips no entry.
            time = start;
            cascade(wheel[level][slot]);
        }
        // No slot comes due in (time, now]: every wheel entry keeps its level and slot (its digits above its
        // level still agree with now's, and its slot is still ahead of now's digit), and overflow entries stay
        // in a later top span.
        time = now;
    }

    /**
     * With the wheel empty, if the earliest overflow entry's top span has started by {@code now}, jumps time to
     * the start of that span and places all its entries on the wheel. Returns false if there was nothing to do.
     */
    private boolean pullOverflow(long now) {
        if (overflow.isEmpty()) {
            return false;
        }
        long spanStart = overflow.firstKey() & -(1L << TOP_BITS);
        if (spanStart > now) {
            return false;
        }
        // spanStart > time: overflow entries lie in a later span than time (invariant 4 and placement).
        time = spanStart;
        while (!overflow.isEmpty() && sameTopSpan(overflow.firstKey(), time)) {
            cascade(overflow.firstEntry().getValue());
        }
        return true;
    }

    /** Re-places every entry of {@code bucket} relative to the (just advanced) time; due == time means ready. */
    private void cascade(Bucket<K, V> bucket) {
        for (Node<K, V> node = bucket.head; node != null; node = bucket.head) {
            unlink(node);
            if (node.due <= time) {
                append(ready, node);
            } else {
                place(node);
            }
        }
    }

    /** Emits ready and pending entries with due <= now, smallest due first. */
    private int emitExpired(long now, BiConsumer<K, V> expired) {
        int count = 0;
        for (Node<K, V> node = firstExpired(); node != null && node.due <= now; node = firstExpired()) {
            unlink(node);
            nodes.remove(node.key);
            K key = node.key;
            V value = node.value;
            node.clear();
            count++;
            expired.accept(key, value);
        }
        return count;
    }

    /**
     * The expired entry to emit first: the smaller due of the ready and pending heads. On a tie the ready entry
     * was scheduled first: it reached ready when time passed its due, and an equal-due entry can only enter
     * pending (be scheduled with due <= time) after that.
     */
    private Node<K, V> firstExpired() {
        Node<K, V> r = ready.head;
        if (pending.isEmpty()) {
            return r;
        }
        Node<K, V> p = pending.firstEntry().getValue().head;
        return r != null && r.due <= p.due ? r : p;
    }

    // ------------------------------------------------------------------------------------- placement and lists

    /** Puts a node with {@code due > time} on the wheel (or in overflow) per the placement rule. */
    private void place(Node<K, V> node) {
        long diff = node.due ^ time; // non-zero because due > time
        if (diff >>> TOP_BITS != 0) {
            appendSorted(overflow, node);
            return;
        }
        int level = (63 - Long.numberOfLeadingZeros(diff)) / BITS;
        int slot = digit(node.due, level);
        append(wheel[level][slot], node);
        occupied[level] |= 1L << slot;
    }

    private void appendSorted(TreeMap<Long, Bucket<K, V>> map, Node<K, V> node) {
        Bucket<K, V> bucket = map.get(node.due);
        if (bucket == null) {
            bucket = new Bucket<>(map == overflow ? OVERFLOW : EXPIRED, 0, node.due, map);
            map.put(node.due, bucket);
        }
        append(bucket, node);
    }

    private static <K, V> void append(Bucket<K, V> bucket, Node<K, V> node) {
        node.bucket = bucket;
        node.prev = bucket.tail;
        node.next = null;
        if (bucket.tail == null) {
            bucket.head = node;
        } else {
            bucket.tail.next = node;
        }
        bucket.tail = node;
    }

    /** Removes a node from its list; an emptied wheel slot clears its mask bit, an emptied map bucket leaves the map. */
    private void unlink(Node<K, V> node) {
        Bucket<K, V> bucket = node.bucket;
        if (node.prev == null) {
            bucket.head = node.next;
        } else {
            node.prev.next = node.next;
        }
        if (node.next == null) {
            bucket.tail = node.prev;
        } else {
            node.next.prev = node.prev;
        }
        node.prev = null;
        node.next = null;
        node.bucket = null;
        if (bucket.head == null) {
            if (bucket.owner != null) {
                bucket.owner.remove(bucket.due);
            } else if (bucket.level >= 0) {
                occupied[bucket.level] &= ~(1L << bucket.slot);
            }
        }
    }

    private static <K, V> void collect(Bucket<K, V> bucket, List<Node<K, V>> into) {
        for (Node<K, V> n = bucket.head; n != null; n = n.next) {
            into.add(n);
        }
        bucket.head = null;
        bucket.tail = null;
    }

    // ------------------------------------------------------------------------------------------ time arithmetic

    private int lowestOccupiedLevel() {
        for (int level = 0; level < LEVELS; level++) {
            if (occupied[level] != 0) {
                return level;
            }
        }
        return -1;
    }

    /** The time at which {@code slot} on {@code level} comes due: time's digits above the level, then slot, then zeros. */
    private long slotStart(int level, int slot) {
        return (time & -(1L << (BITS * (level + 1)))) | ((long) slot << (BITS * level));
    }

    private static int digit(long t, int level) {
        return (int) (t >>> (BITS * level)) & SLOT_MASK;
    }

    private static boolean sameTopSpan(long a, long b) {
        return (a ^ b) >>> TOP_BITS == 0;
    }

    private void checkNotEmitting() {
        if (emitting) {
            throw new IllegalStateException("the advance consumer must not call back into the TimingWheel");
        }
    }

    // -------------------------------------------------------------------------------------------- test hooks

    /** Test hook: the level holding {@code key}, or {@link #EXPIRED}, {@link #OVERFLOW}, {@link #ABSENT}. */
    int levelOf(K key) {
        Node<K, V> node = nodes.get(key);
        return node == null ? ABSENT : node.bucket.level;
    }

    /** Test hook: verifies the invariants in the class javadoc; throws {@link IllegalStateException} if broken. */
    void checkInvariants() {
        int count = 0;
        count += checkList(ready, n -> n.due <= time, "ready");
        Node<K, V> prevReady = null;
        for (Node<K, V> n = ready.head; n != null; prevReady = n, n = n.next) {
            require(prevReady == null || prevReady.due <= n.due, "ready out of order");
        }
        for (var e : pending.entrySet()) {
            count += checkList(e.getValue(), n -> n.due == e.getKey() && n.due <= time, "pending");
        }
        for (var e : overflow.entrySet()) {
            count += checkList(e.getValue(), n -> n.due == e.getKey() && n.due > time && !sameTopSpan(n.due, time),
                    "overflow");
        }
        for (int level = 0; level < LEVELS; level++) {
            for (int slot = 0; slot < SLOTS; slot++) {
                Bucket<K, V> b = wheel[level][slot];
                boolean bit = (occupied[level] & (1L << slot)) != 0;
                require(bit == (b.head != null), "mask bit " + level + "/" + slot);
                int lv = level;
                int sl = slot;
                count += checkList(b, n -> n.due > time && sameTopSpan(n.due, time)
                        && (63 - Long.numberOfLeadingZeros(n.due ^ time)) / BITS == lv
                        && digit(n.due, lv) == sl && sl > digit(time, lv), "wheel " + level + "/" + slot);
            }
        }
        require(count == nodes.size(), "node count " + count + " != map size " + nodes.size());
    }

    private int checkList(Bucket<K, V> b, java.util.function.Predicate<Node<K, V>> ok, String where) {
        int count = 0;
        Node<K, V> prev = null;
        for (Node<K, V> n = b.head; n != null; prev = n, n = n.next) {
            require(n.prev == prev && n.bucket == b, where + ": broken links");
            require(nodes.get(n.key) == n, where + ": node not in map");
            require(ok.test(n), where + ": misplaced entry due " + n.due + " at time " + time);
            count++;
        }
        require(b.tail == prev, where + ": bad tail");
        return count;
    }

    private static void require(boolean condition, String message) {
        if (!condition) {
            throw new IllegalStateException("TimingWheel invariant broken: " + message);
        }
    }

    // ------------------------------------------------------------------------------------------------- nodes

    /** One per entry; lives in exactly one bucket. Reused when its key is rescheduled. */
    private static final class Node<K, V> {
        final K key;
        V value;
        long due;
        Node<K, V> prev;
        Node<K, V> next;
        Bucket<K, V> bucket;

        Node(K key) {
            this.key = key;
        }

        void clear() {
            value = null;
            prev = null;
            next = null;
            bucket = null;
        }
    }

    /**
     * A doubly linked list of nodes. A wheel slot (level >= 0, owner null), the ready list (level EXPIRED, owner
     * null), or a pending/overflow bucket for one due time (owner = the map it is removed from when emptied).
     */
    private static final class Bucket<K, V> {
        final int level;
        final int slot;
        final long due;
        final TreeMap<Long, Bucket<K, V>> owner;
        Node<K, V> head;
        Node<K, V> tail;

        Bucket(int level, int slot, long due, TreeMap<Long, Bucket<K, V>> owner) {
            this.level = level;
            this.slot = slot;
            this.due = due;
            this.owner = owner;
        }
    }
}
