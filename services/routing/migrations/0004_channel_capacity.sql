-- Capacity per channel (RTG-1, RTG-2). `capacities[c]` is the capacity on
-- channel c of livedesk.common.v1.Channel (1 web chat, 2 Messenger,
-- 3 WhatsApp, 4 Instagram, 5 email), defaults resolved by the service when
-- written (domain::Capacities). Existing agents keep their chat capacity
-- on every chat channel; email takes its default of 5.
ALTER TABLE agents ADD COLUMN capacities integer[] NOT NULL DEFAULT '{4,4,4,4,5}'
    CHECK (cardinality(capacities) = 5 AND 1 <= ALL (capacities) AND 25 >= ALL (capacities));
UPDATE agents SET capacities = ARRAY[chat_capacity, chat_capacity, chat_capacity, chat_capacity, 5];
-- The single chat capacity is superseded by capacities[1].
ALTER TABLE agents DROP COLUMN chat_capacity;

-- The channel a conversation counts against: UNSPECIFIED (0) or unknown
-- counts as web chat (domain::Channel::of_conversation agrees).
CREATE FUNCTION routing_channel(p_channel integer) RETURNS integer LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_channel BETWEEN 1 AND 5 THEN p_channel ELSE 1 END
$$;

-- RTG-2 per channel: pending offers + active legs + legs in wrap-up of one
-- agent, counted per channel of their conversations, as an array indexed
-- like `agents.capacities`. STABLE, like agent_load: call it in a fresh
-- statement after locking the agent row.
CREATE FUNCTION agent_channel_loads(p_org uuid, p_agent text) RETURNS bigint[] LANGUAGE sql STABLE AS $$
    SELECT ARRAY[count(*) FILTER (WHERE ch = 1), count(*) FILTER (WHERE ch = 2), count(*) FILTER (WHERE ch = 3),
                 count(*) FILTER (WHERE ch = 4), count(*) FILTER (WHERE ch = 5)]
    FROM (SELECT routing_channel(e.channel) AS ch FROM offers o
            LEFT JOIN queue_entries e ON e.conversation_id = o.conversation_id
           WHERE o.org_id = p_org AND o.agent_id = p_agent AND o.status = 'pending'
          UNION ALL
          SELECT routing_channel(e.channel) FROM legs l
            LEFT JOIN queue_entries e ON e.conversation_id = l.conversation_id
           WHERE l.org_id = p_org AND l.agent_id = p_agent AND l.status <> 'done') x
$$;
