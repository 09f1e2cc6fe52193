package redisstore

import (
	"context"
	"fmt"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/mapping/store"
)

// fieldNumber is the number of a field of m, taken from the generated
// descriptor so that the scripts follow the schema.
func fieldNumber(m proto.Message, name protoreflect.Name) protowire.Number {
	return m.ProtoReflect().Descriptor().Fields().ByName(name).Number()
}

// enumField is the wire encoding of an enum field set to v.
func enumField(num protowire.Number, v protoreflect.Enum) string {
	b := protowire.AppendTag(nil, num, protowire.VarintType)
	return string(protowire.AppendVarint(b, uint64(v.Number())))
}

// RemoveTenant implements store.TenantStore with one script over the
// tenant record and the hashes of its links and connections. The script
// rewrites the encoded records itself (see protoWithoutLua), so no record
// written concurrently can slip between a read and the write.
func (s *Store) RemoveTenant(ctx context.Context, tenantID string) (*gsv1.Tenant, error) {
	if err := store.CheckID("tenant_id", tenantID); err != nil {
		return nil, err
	}
	fresh, err := proto.Marshal(&gsv1.Tenant{
		TenantId: tenantID, State: gsv1.TenantState_TENANT_STATE_REMOVED, CreatedAt: timestamppb.Now(),
	})
	if err != nil {
		return nil, fmt.Errorf("remove tenant %s: %w", tenantID, err)
	}
	tenantState := fieldNumber(&gsv1.Tenant{}, "state")
	linkState := fieldNumber(&gsv1.Link{}, "state")
	k := keysOf(tenantID)
	v, err := s.scripts.removeTenant.Run(ctx, s.rdb,
		[]string{k.tenant(), k.links(), k.connections()},
		fresh,
		strconv.Itoa(int(tenantState)), enumField(tenantState, gsv1.TenantState_TENANT_STATE_REMOVED),
		strconv.Itoa(int(linkState)), enumField(linkState, gsv1.LinkState_LINK_STATE_PAUSED),
		strconv.Itoa(int(fieldNumber(&gsv1.Connection{}, "credentials"))),
	).Text()
	t := &gsv1.Tenant{}
	if err == nil {
		err = proto.Unmarshal([]byte(v), t)
	}
	if err != nil {
		return nil, fmt.Errorf("remove tenant %s: %w", tenantID, err)
	}
	return t, nil
}
