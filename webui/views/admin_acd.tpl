% rebase('base.tpl', title=_('ACD settings'), back_path='/admin/acd')
% include('admin_nav.tpl')
<h1>{{_('ACD settings')}}</h1>
% include('admin_applied.tpl', applied=applied)
% if any(f.errors for f in fields) or other:
<div class="error" id="form-errors" role="alert"><p>{{_('Not saved: please correct the marked fields. Nothing was changed.')}}</p>
<ul>
% for e in other:
<li>{{e.where()}}: {{e.message}}</li>
% end
</ul></div>
% end
<form method="post" action="/admin/acd" class="card wide">
<input type="hidden" name="csrf" value="{{ctx.csrf_token}}">
% include('admin_fields.tpl', fields=fields, disabled=not ctx.can('site.edit'))
% if ctx.can('site.edit'):
<p><button type="submit" id="save">{{_('Save')}}</button></p>
% end
</form>
