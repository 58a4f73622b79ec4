package organizations

import (
	"context"
	"sort"
	"strings"

	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	orgapi "github.com/rampart/rampart/internal/api/organizations"
)

func errParentNotFound() error {
	return orgapi.NewParentNotFoundException("We can't find a root or OU with the ParentId that you specified.")
}

func errOUNotFound() error {
	return orgapi.NewOrganizationalUnitNotFoundException("We can't find an OU with the OrganizationalUnitId that you specified.")
}

// siblingNamed reports whether parent already has an OU named name (other
// than except). OU names compare exactly, as AWS compares them.
func (o *org) siblingNamed(parent, name, except string) bool {
	for _, u := range o.OUs {
		if u.Parent == parent && u.Name == name && u.ID != except {
			return true
		}
	}
	return false
}

// CreateOrganizationalUnit creates an OU under a root or OU, at most five
// levels below the root.
func (s *Service) CreateOrganizationalUnit(ctx context.Context, in *orgapi.CreateOrganizationalUnitRequest) (*orgapi.CreateOrganizationalUnitResponse, error) {
	c := service.CallFrom(ctx)
	if err := checkTagAccess(ctx, c, in.Tags); err != nil {
		return nil, err
	}
	tags, err := tagMap(in.Tags)
	if err != nil {
		return nil, err
	}
	var out *orgapi.OrganizationalUnit
	err = s.update(ctx, managerOnly, func(_ store.Tx, c *service.Call, o *org) error {
		parent, name := str(in.ParentId), str(in.Name)
		if !o.isParent(parent) {
			return errParentNotFound()
		}
		if o.depth(parent) >= maxOUDepth {
			return orgapi.NewConstraintViolationException("You attempted to create an OU tree that is too many levels deep: OUs nest at most %d levels below the root.", maxOUDepth).With("Reason", "OU_DEPTH_LIMIT_EXCEEDED")
		}
		if len(o.OUs) >= maxOUs {
			return orgapi.NewConstraintViolationException("You attempted to exceed the number of OUs that you can have in an organization.").With("Reason", "OU_NUMBER_LIMIT_EXCEEDED")
		}
		if o.siblingNamed(parent, name, "") {
			return orgapi.NewDuplicateOrganizationalUnitException("An OU with the same name already exists.")
		}
		id, err := newOUID(c, o)
		if err != nil {
			return err
		}
		u := &ou{ID: id, Name: name, Parent: parent, Tags: tags}
		o.OUs[id] = u
		o.attachDefaults(id)
		out = o.apiOU(u)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &orgapi.CreateOrganizationalUnitResponse{OrganizationalUnit: out}, nil
}

// UpdateOrganizationalUnit renames an OU.
func (s *Service) UpdateOrganizationalUnit(ctx context.Context, in *orgapi.UpdateOrganizationalUnitRequest) (*orgapi.UpdateOrganizationalUnitResponse, error) {
	var out *orgapi.OrganizationalUnit
	err := s.update(ctx, managerOnly, func(_ store.Tx, _ *service.Call, o *org) error {
		u := o.OUs[str(in.OrganizationalUnitId)]
		if u == nil {
			return errOUNotFound()
		}
		if in.Name != nil {
			if o.siblingNamed(u.Parent, *in.Name, u.ID) {
				return orgapi.NewDuplicateOrganizationalUnitException("An OU with the same name already exists.")
			}
			u.Name = *in.Name
		}
		out = o.apiOU(u)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &orgapi.UpdateOrganizationalUnitResponse{OrganizationalUnit: out}, nil
}

// DeleteOrganizationalUnit deletes an OU that holds no accounts and no OUs.
func (s *Service) DeleteOrganizationalUnit(ctx context.Context, in *orgapi.DeleteOrganizationalUnitRequest) (*awsproto.Empty, error) {
	err := s.update(ctx, managerOnly, func(_ store.Tx, _ *service.Call, o *org) error {
		id := str(in.OrganizationalUnitId)
		if o.OUs[id] == nil {
			return errOUNotFound()
		}
		if len(o.children(id, "")) > 0 {
			return orgapi.NewOrganizationalUnitNotEmptyException("The specified OU is not empty. Move all accounts to another root or to other OUs, remove all child OUs, and try the operation again.")
		}
		delete(o.OUs, id)
		o.detachAll(id)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &awsproto.Empty{}, nil
}

// DescribeOrganizationalUnit returns an OU.
func (s *Service) DescribeOrganizationalUnit(ctx context.Context, in *orgapi.DescribeOrganizationalUnitRequest) (*orgapi.DescribeOrganizationalUnitResponse, error) {
	var out *orgapi.OrganizationalUnit
	err := s.view(ctx, readOnly, func(_ *service.Call, o *org) error {
		u := o.OUs[str(in.OrganizationalUnitId)]
		if u == nil {
			return errOUNotFound()
		}
		out = o.apiOU(u)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &orgapi.DescribeOrganizationalUnitResponse{OrganizationalUnit: out}, nil
}

// children returns the direct children of parent, OUs then accounts, each
// sorted by id; kind filters ("" for both).
func (o *org) children(parent string, kind orgapi.ChildType) []orgapi.Child {
	var out []orgapi.Child
	if kind == "" || kind == orgapi.ChildTypeOrganizationalUnit {
		for _, u := range o.OUs {
			if u.Parent == parent {
				out = append(out, orgapi.Child{Id: ptr(u.ID), Type: orgapi.ChildTypeOrganizationalUnit})
			}
		}
	}
	if kind == "" || kind == orgapi.ChildTypeAccount {
		for _, a := range o.Accounts {
			if a.Parent == parent {
				out = append(out, orgapi.Child{Id: ptr(a.ID), Type: orgapi.ChildTypeAccount})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return childKey(out[i]) < childKey(out[j]) })
	return out
}

func childKey(c orgapi.Child) string { return string(c.Type) + "/" + *c.Id }

// ListOrganizationalUnitsForParent lists the OUs directly under a root or OU.
func (s *Service) ListOrganizationalUnitsForParent(ctx context.Context, in *orgapi.ListOrganizationalUnitsForParentRequest) (*orgapi.ListOrganizationalUnitsForParentResponse, error) {
	out := &orgapi.ListOrganizationalUnitsForParentResponse{}
	err := s.view(ctx, readOnly, func(_ *service.Call, o *org) error {
		parent := str(in.ParentId)
		if !o.isParent(parent) {
			return errParentNotFound()
		}
		var ous []orgapi.OrganizationalUnit
		for _, ch := range o.children(parent, orgapi.ChildTypeOrganizationalUnit) {
			ous = append(ous, *o.apiOU(o.OUs[*ch.Id]))
		}
		items, next, err := page(ous, func(u orgapi.OrganizationalUnit) string { return *u.Id }, in.NextToken, in.MaxResults, 20)
		out.OrganizationalUnits, out.NextToken = nonNil(items), next
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListChildren lists the OUs or accounts directly under a root or OU.
func (s *Service) ListChildren(ctx context.Context, in *orgapi.ListChildrenRequest) (*orgapi.ListChildrenResponse, error) {
	out := &orgapi.ListChildrenResponse{}
	err := s.view(ctx, readOnly, func(_ *service.Call, o *org) error {
		parent := str(in.ParentId)
		if !o.isParent(parent) {
			return errParentNotFound()
		}
		items, next, err := page(o.children(parent, in.ChildType), childKey, in.NextToken, in.MaxResults, 20)
		out.Children, out.NextToken = nonNil(items), next
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListParents returns the one parent of an OU or account.
func (s *Service) ListParents(ctx context.Context, in *orgapi.ListParentsRequest) (*orgapi.ListParentsResponse, error) {
	out := &orgapi.ListParentsResponse{}
	err := s.view(ctx, readOnly, func(_ *service.Call, o *org) error {
		id := str(in.ChildId)
		parent := o.parentOf(id)
		if parent == "" {
			return orgapi.NewChildNotFoundException("We can't find an organizational unit (OU) or AWS account with the ChildId that you specified.")
		}
		out.Parents = []orgapi.Parent{{Id: ptr(parent), Type: parentType(o, parent)}}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// targetKind names what an id designates, by its form.
func targetKind(id string) orgapi.TargetType {
	switch {
	case strings.HasPrefix(id, "r-"):
		return orgapi.TargetTypeRoot
	case strings.HasPrefix(id, "ou-"):
		return orgapi.TargetTypeOrganizationalUnit
	default:
		return orgapi.TargetTypeAccount
	}
}
