package organizations_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
)

func TestOrganizationalUnits(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	o, root := e.setup(t)

	prod := e.newOU(t, root, "Prod")
	if want := `^ou-` + strings.TrimPrefix(root, "r-") + `-[a-z0-9]{8}$`; !regexp.MustCompile(want).MatchString(prod) {
		t.Errorf("OU id %q does not match %s", prod, want)
	}
	web := e.newOU(t, prod, "Web")

	d, err := e.org.DescribeOrganizationalUnit(ctx, &organizations.DescribeOrganizationalUnitInput{OrganizationalUnitId: aws.String(web)})
	mustOK(t, err, "DescribeOrganizationalUnit")
	if got, want := aws.ToString(d.OrganizationalUnit.Arn), "arn:aws:organizations::000000000000:ou/"+aws.ToString(o.Id)+"/"+web; got != want || aws.ToString(d.OrganizationalUnit.Name) != "Web" {
		t.Errorf("OU %s %s, want arn %s", got, aws.ToString(d.OrganizationalUnit.Name), want)
	}

	parents, err := e.org.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String(web)})
	mustOK(t, err, "ListParents")
	if len(parents.Parents) != 1 || aws.ToString(parents.Parents[0].Id) != prod || parents.Parents[0].Type != types.ParentTypeOrganizationalUnit {
		t.Errorf("parents of Web: %+v", parents.Parents)
	}
	parents, err = e.org.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String(prod)})
	mustOK(t, err, "ListParents")
	if aws.ToString(parents.Parents[0].Id) != root || parents.Parents[0].Type != types.ParentTypeRoot {
		t.Errorf("parents of Prod: %+v", parents.Parents)
	}

	// Children: the management account and Prod under the root.
	kids, err := e.org.ListChildren(ctx, &organizations.ListChildrenInput{ParentId: aws.String(root), ChildType: types.ChildTypeOrganizationalUnit})
	mustOK(t, err, "ListChildren")
	if len(kids.Children) != 1 || aws.ToString(kids.Children[0].Id) != prod {
		t.Errorf("OU children of root: %+v", kids.Children)
	}
	kids, err = e.org.ListChildren(ctx, &organizations.ListChildrenInput{ParentId: aws.String(root), ChildType: types.ChildTypeAccount})
	mustOK(t, err, "ListChildren")
	if len(kids.Children) != 1 || aws.ToString(kids.Children[0].Id) != "000000000000" {
		t.Errorf("account children of root: %+v", kids.Children)
	}

	// Rename, and duplicate names among siblings.
	_, err = e.org.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String(root), Name: aws.String("Prod")})
	wantErr(t, err, "DuplicateOrganizationalUnitException", "An OU with the same name already exists.")
	dev := e.newOU(t, root, "Dev")
	_, err = e.org.UpdateOrganizationalUnit(ctx, &organizations.UpdateOrganizationalUnitInput{OrganizationalUnitId: aws.String(dev), Name: aws.String("Prod")})
	wantErr(t, err, "DuplicateOrganizationalUnitException", "An OU with the same name already exists.")
	u, err := e.org.UpdateOrganizationalUnit(ctx, &organizations.UpdateOrganizationalUnitInput{OrganizationalUnitId: aws.String(dev), Name: aws.String("Sandbox")})
	mustOK(t, err, "UpdateOrganizationalUnit")
	if aws.ToString(u.OrganizationalUnit.Name) != "Sandbox" {
		t.Errorf("renamed to %q", aws.ToString(u.OrganizationalUnit.Name))
	}
	// Same name under another parent is fine.
	e.newOU(t, prod, "Sandbox")

	list, err := e.org.ListOrganizationalUnitsForParent(ctx, &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String(root)})
	mustOK(t, err, "ListOrganizationalUnitsForParent")
	names := map[string]bool{}
	for _, u := range list.OrganizationalUnits {
		names[aws.ToString(u.Name)] = true
	}
	if len(list.OrganizationalUnits) != 2 || !names["Prod"] || !names["Sandbox"] {
		t.Errorf("OUs under root: %+v", names)
	}

	// Delete only when empty.
	_, err = e.org.DeleteOrganizationalUnit(ctx, &organizations.DeleteOrganizationalUnitInput{OrganizationalUnitId: aws.String(prod)})
	wantErr(t, err, "OrganizationalUnitNotEmptyException", "not empty")
	acct := e.newAccount(t, "web1")
	_, err = e.org.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String(acct), SourceParentId: aws.String(root), DestinationParentId: aws.String(dev)})
	mustOK(t, err, "MoveAccount")
	_, err = e.org.DeleteOrganizationalUnit(ctx, &organizations.DeleteOrganizationalUnitInput{OrganizationalUnitId: aws.String(dev)})
	wantErr(t, err, "OrganizationalUnitNotEmptyException", "not empty")
	_, err = e.org.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String(acct), SourceParentId: aws.String(dev), DestinationParentId: aws.String(root)})
	mustOK(t, err, "MoveAccount back")
	_, err = e.org.DeleteOrganizationalUnit(ctx, &organizations.DeleteOrganizationalUnitInput{OrganizationalUnitId: aws.String(dev)})
	mustOK(t, err, "DeleteOrganizationalUnit")
	_, err = e.org.DescribeOrganizationalUnit(ctx, &organizations.DescribeOrganizationalUnitInput{OrganizationalUnitId: aws.String(dev)})
	wantErr(t, err, "OrganizationalUnitNotFoundException", "OrganizationalUnitId")
}

func TestOrganizationalUnitErrors(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	_, root := e.setup(t)
	missingOU := "ou-" + strings.TrimPrefix(root, "r-") + "-zzzzzzzz"

	// Five levels below the root, and no more.
	parent := root
	for i := range 5 {
		parent = e.newOU(t, parent, "L"+string(rune('1'+i)))
	}
	_, err := e.org.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String(parent), Name: aws.String("L6")})
	wantErr(t, err, "ConstraintViolationException", "OU_DEPTH_LIMIT_EXCEEDED")

	cases := map[string]struct {
		call       func() error
		code, want string
	}{
		"create under unknown parent": {func() error {
			_, err := e.org.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String(missingOU), Name: aws.String("x")})
			return err
		}, "ParentNotFoundException", "ParentId"},
		"list under unknown parent": {func() error {
			_, err := e.org.ListChildren(ctx, &organizations.ListChildrenInput{ParentId: aws.String("r-zzzz"), ChildType: types.ChildTypeAccount})
			return err
		}, "ParentNotFoundException", "ParentId"},
		"describe unknown": {func() error {
			_, err := e.org.DescribeOrganizationalUnit(ctx, &organizations.DescribeOrganizationalUnitInput{OrganizationalUnitId: aws.String(missingOU)})
			return err
		}, "OrganizationalUnitNotFoundException", "OrganizationalUnitId"},
		"rename unknown": {func() error {
			_, err := e.org.UpdateOrganizationalUnit(ctx, &organizations.UpdateOrganizationalUnitInput{OrganizationalUnitId: aws.String(missingOU), Name: aws.String("x")})
			return err
		}, "OrganizationalUnitNotFoundException", "OrganizationalUnitId"},
		"delete unknown": {func() error {
			_, err := e.org.DeleteOrganizationalUnit(ctx, &organizations.DeleteOrganizationalUnitInput{OrganizationalUnitId: aws.String(missingOU)})
			return err
		}, "OrganizationalUnitNotFoundException", "OrganizationalUnitId"},
		"parents of unknown child": {func() error {
			_, err := e.org.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String("123456789012")})
			return err
		}, "ChildNotFoundException", "ChildId"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) { wantErr(t, tc.call(), tc.code, tc.want) })
	}
}

func TestPagination(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	_, root := e.setup(t)
	want := map[string]bool{}
	for i := range 7 {
		want[e.newOU(t, root, "ou"+string(rune('a'+i)))] = true
	}
	got := map[string]bool{}
	pages := 0
	p := organizations.NewListOrganizationalUnitsForParentPaginator(e.org, &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String(root), MaxResults: aws.Int32(3)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		mustOK(t, err, "page")
		pages++
		for _, u := range out.OrganizationalUnits {
			if got[aws.ToString(u.Id)] {
				t.Errorf("%s listed twice", aws.ToString(u.Id))
			}
			got[aws.ToString(u.Id)] = true
		}
	}
	if pages != 3 || len(got) != len(want) {
		t.Errorf("%d pages, %d OUs; want 3 pages, %d OUs", pages, len(got), len(want))
	}
	_, err := e.org.ListOrganizationalUnitsForParent(ctx, &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String(root), NextToken: aws.String("bogus")})
	wantErr(t, err, "InvalidInputException", "NextToken")
}
